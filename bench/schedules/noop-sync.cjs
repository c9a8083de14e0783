// The trivial sync the schedules bench deploys: it does nothing, so what is measured is the cost of starting,
// running and ending one scheduled run, not the script's work.
module.exports.default = {
    type: 'sync',
    description: 'Does nothing',
    frequency: 'every 30 seconds',
    autoStart: true,
    models: {},
    exec: async () => {}
};
