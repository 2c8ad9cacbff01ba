import * as core from './index';

describe('public API', () => {
  it('exports the rules from one entry point', () => {
    for (const name of [
      'validateConfig', 'DEFAULT_CONFIG', 'checkUserEvent', 'checkRoomEvent', 'roomKey',
      'initialUserState', 'evolve', 'applyEvent', 'tick', 'effectiveStatus', 'nextDeadline',
      'userView', 'effectiveStatusOfView', 'readView', 'readViewNextChange', 'viewChanged', 'snapshotDecision', 'nextSnapshotCheck', 'statusTransition',
      'initialRoomState', 'roomEvolve', 'applyRoomEvent', 'roomTick', 'roomNextDeadline', 'roomView', 'readRoomView', 'readRoomViewNextChange',
      'roomViewChanged', 'roomSnapshotDecision', 'roomNextSnapshotCheck', 'roomIsGone',
      'gateDecision', 'validateChannelClasses', 'DEFAULT_CHANNEL_CLASSES',
      'deviceRoutes', 'deviceRoutesOfView', 'targetGateways', 'sessionActive',
      'validateAdaptiveConfig', 'recordArrival', 'mergeArrivals', 'arrivalEstimate', 'adaptiveOfflineDeadline', 'sessionOfflineAt',
    ]) {
      expect(core).toHaveProperty(name);
    }
  });
});
