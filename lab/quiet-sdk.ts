/**
 * The lab runs on Node 20 with the SDK versions package-lock.json pins, which support it. The SDK's
 * NodeVersionSupportWarning is about releases after January 2027 needing Node 22: nothing a person
 * running the demo, the lab or a test can act on (upgrading the SDK is the maintainers' step, and
 * README states the Node it needs). bin/flants.js silences it for the CLI the same way; an explicit
 * setting wins. Imported first by the lab's modules that build SDK clients (the warning is emitted
 * when a client is constructed, so this runs in time).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
