#!/usr/bin/env bash
# Shows that `make up` twice is harmless and `make down` leaves nothing behind (run by .ci/run).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ours() { pgrep -f -- "-Dpresence.infra=$INFRA_DIR" || true; }
bash "$ROOT/infra/up.sh"
bash "$ROOT/infra/up.sh"
running="$(ours | wc -l)"
(( running == 2 )) || die "expected 2 processes (kafka, registry) after up twice, found $running"
bash "$ROOT/infra/down.sh"
left="$(ours)"
[[ -z "$left" ]] || die "processes left after down: $left"
out="$(bash "$ROOT/infra/down.sh" 2>&1)"
[[ "$out" == *"nothing running"* ]] || die "second down should say nothing is running, said: $out"
log "lifecycle ok: up twice ran 2 processes, down stopped both, down again said '$out'"
