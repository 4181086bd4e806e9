// esbuild plugins of the Lambda bundles (serverless.yml, custom.esbuild.plugins): the dashboard's page
// script inlined as a string (scripts/dashboard-script.cjs).
'use strict';
const { dashboardScriptPlugin } = require('./dashboard-script.cjs');

module.exports = [dashboardScriptPlugin()];
