"""Runs moto's server with tags on virtual MFA devices.

moto 5.2.5 accepts Tags on CreateVirtualMFADevice but drops them, and does not implement
ListMFADeviceTags. The operator decides what it owns by those tags (DESIGN.md invariant I4), so
the tests need them. This launcher keeps the tags given at creation and answers
ListMFADeviceTags from them; everything else is moto as released. Test infrastructure only.
"""

import sys

from moto.core.responses import ActionResult
from moto.iam.exceptions import NoSuchEntity
from moto.iam.responses import IamResponse
from moto.server import main
from moto.utilities.utils import get_partition

_create = IamResponse.create_virtual_mfa_device


def _create_with_tags(self):
    result = _create(self)
    path = self._get_param("Path") or "/"
    name = self._get_param("VirtualMFADeviceName")
    tags = self._get_param("Tags", [])
    # Looked up by its serial, not by walking the devices: moto serves requests on threads, and a
    # walk while another create adds a device fails ("dictionary changed size during iteration")
    # with a 500 after this device was made, leaving it untagged.
    serial = f"arn:{get_partition(self.region)}:iam::{self.backend.account_id}:mfa{path}{name}"
    device = self.backend.virtual_mfa_devices.get(serial)
    if device is not None:
        device.tags = tags
    return result


def _list_mfa_device_tags(self):
    serial = self._get_param("SerialNumber")
    device = self.backend.virtual_mfa_devices.get(serial)
    if device is None:
        raise NoSuchEntity(f"MFA device {serial} not found")
    return ActionResult({"Tags": getattr(device, "tags", []), "IsTruncated": False})


IamResponse.create_virtual_mfa_device = _create_with_tags
IamResponse.list_mfa_device_tags = _list_mfa_device_tags

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
