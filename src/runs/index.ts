// The run-folder reader library (no vscode import): what the host and tests use.
export * from './liveness';
export * from './trainerProcess';
export * from './runDir';
export * from './series';
export * from './store';
export * from './tail';
export * from './stop';
export * from './notes';
