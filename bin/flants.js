#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so the CLI, the tests and the Lambda bundle share
// one source tree with no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
