import type { Linter } from 'eslint';

/** The dependency rule's config blocks (eslint.layers.js). */
export declare const LAYERS: Linter.Config[];
