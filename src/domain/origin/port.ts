// Moved to src/domain/ports/origin.ts (issue 20, the ports beside each other); kept for branches of this wave.
export * from '../ports/origin.ts';
