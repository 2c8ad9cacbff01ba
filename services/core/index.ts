// The presence core: the one place the rules live. Pure functions; time is always an argument.
export * from './config';
export * from './events';
export * from './hygiene';
export * from './status';
export * from './activity';
export * from './user';
export * from './room';
export * from './gate';
export * from './device-routes';
export * from './adaptive-config';
export * from './arrival';
export * from './contacts';
