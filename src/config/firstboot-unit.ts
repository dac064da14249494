// The unit that runs the first boot. cloud-init's runcmd runs once per instance and marks itself
// done first, so a reboot or a power loss in the middle of an install or a join left the host
// half-built for good. runcmd now only enables and starts this unit; systemd starts it again at
// every boot, and the runner resumes with the first step not yet done, until it says ok.
//
// Ordering: after cloud-init has applied the network and written our files (cloud-init.service,
// before cloud-config.service). Never after cloud-final.service: on Debian and Ubuntu that unit
// is ordered after multi-user.target (cloud-init's systemd/cloud-final.service.tmpl), which waits
// for the units it wants — this one — so that would be a cycle systemd breaks by dropping a job.
export function renderFirstbootUnit(runner: string): string {
  return `[Unit]
Description=kubebake first boot (resumes after a reboot until done)
Wants=network-online.target
After=network-online.target cloud-config.service

[Service]
Type=oneshot
ExecStart=${runner}
# Each step bounds its own waits (bootstrap.apiWaitSeconds, joinAttempts).
TimeoutStartSec=infinity
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
`;
}
