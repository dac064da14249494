"""How cloud-init combines a NoCloud user-data and vendor-data, with cloud-init's own code.

Usage: python3 cloud_init_merge.py USER-DATA VENDOR-DATA -> JSON of the merged config.
Each document goes through cloud-init's cloud-config part handler (handlers/cloud_config.py,
as stages.Init._consume_userdata/_consume_vendordata run it: it writes cloud-config.txt and
vendor-cloud-config.txt), then helpers.ConfigMerger reads both back and merges them
(_get_instance_configs: cloud_config first, then vendor; util.mergemanydict). Nothing is
re-implemented: a stand-in merge would pass where cloud-init drops a file.
"""
import json
import os
import sys
import tempfile

from cloudinit import handlers, helpers
from cloudinit.handlers.cloud_config import CloudConfigPartHandler


class Paths:
    def __init__(self, d):
        self.d = d

    def get_ipath(self, name):
        return os.path.join(self.d, name + ".txt")

    get_ipath_cur = get_ipath


def handle(paths, name, payload):
    h = CloudConfigPartHandler(paths, cloud_config_path=name)
    h.handle_part(None, handlers.CONTENT_START, None, None, None, None)
    h.handle_part(None, "text/cloud-config", "part-001", payload, None, {})
    h.handle_part(None, handlers.CONTENT_END, None, None, None, None)


def main():
    user, vendor = (open(f).read() for f in sys.argv[1:3])
    paths = Paths(tempfile.mkdtemp())
    handle(paths, "cloud_config", user)
    handle(paths, "vendor_cloud_config", vendor)
    merger = helpers.ConfigMerger(paths=paths, datasource=None, additional_fns=[], base_cfg={}, include_vendor=True)
    json.dump(merger.cfg, sys.stdout)


main()
