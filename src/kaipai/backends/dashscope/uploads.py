"""Local files reach DashScope the way its own SDK sends them: a temporary upload, as an ``oss://`` URL.

``GET /api/v1/uploads?action=getPolicy&model=M`` returns a signed form policy; the file is posted
to the policy's ``upload_host`` (a storage bucket, without DashScope's key) with the fields in the
order the SDK sends them, and is then named ``oss://<upload_dir>/<file name>`` in a task submitted
with ``X-DashScope-OssResourceResolve: enable`` (dashscope SDK 2.0.2 ``OssUtils.upload``; Model
Studio, "get a temporary URL for a file"). An upload is bound to the model it was made for and lives
48 hours, so one render uploads a file once per model; the director never needs a public URL.
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
from pathlib import Path

import httpx

from kaipai.backends.base import BackendError, TransientError
from kaipai.backends.dashscope import protocol
from kaipai.backends.remote import tasks

RESOLVE_HEADER = {"X-DashScope-OssResourceResolve": "enable"}
POLICY_FIELDS = (
    "policy",
    "signature",
    "upload_dir",
    "upload_host",
    "oss_access_key_id",
    "x_oss_object_acl",
    "x_oss_forbid_overwrite",
)


class Uploader:
    """Uploads files for one backend instance, each (model, content) once."""

    def __init__(self, send: protocol.Send, storage: httpx.Client) -> None:
        self.send, self.storage = send, storage
        self._done: dict[tuple[str, str], str] = {}
        self.uploaded: list[str] = []

    def url(self, model: str, path: Path) -> str:
        """The ``oss://`` URL of ``path`` uploaded for ``model`` (send it with :data:`RESOLVE_HEADER`)."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise BackendError(f"cannot read {path} to upload it to DashScope ({exc})") from None
        key = (model, hashlib.sha256(raw).hexdigest())
        if key not in self._done:
            self._done[key] = self._upload(model, path.name, raw)
            self.uploaded.append(self._done[key])
        return self._done[key]

    def _policy(self, model: str) -> dict[str, str]:
        response = self.send("GET", protocol.UPLOAD_POLICY_PATH, params={"action": "getPolicy", "model": model})
        body = tasks.json_body(response, protocol.PROVIDER)
        data = body.get("data") or {}
        missing = [f for f in POLICY_FIELDS if not data.get(f)]
        if response.status_code != 200 or missing:
            raise TransientError(
                f"DashScope gave no usable upload policy (HTTP {response.status_code}; missing {', '.join(missing)})"
            )
        return {k: str(v) for k, v in data.items()}

    def _upload(self, model: str, name: str, raw: bytes) -> str:
        policy = self._policy(model)
        key = f"{policy['upload_dir']}/{name}"
        fields = {
            "OSSAccessKeyId": policy["oss_access_key_id"],
            "Signature": policy["signature"],
            "policy": policy["policy"],
            "key": key,
            "x-oss-object-acl": policy["x_oss_object_acl"],
            "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
            "success_action_status": "200",
            "x-oss-content-type": mimetypes.guess_type(name)[0] or "application/octet-stream",
        }
        response = tasks.send(
            self.storage,
            "POST",
            policy["upload_host"],
            "DashScope's file storage",
            data=fields,
            files={"file": (name, raw)},
            headers={"Accept": "application/json", "Date": email.utils.formatdate(usegmt=True)},
        )
        if response.status_code != 200:
            detail = " ".join(response.text.split())[:200]
            if "expired" in detail.lower():
                raise TransientError(f"DashScope's upload policy expired before the upload of {name}: {detail}")
            raise BackendError(
                f"DashScope's file storage refused the upload of {name} (HTTP {response.status_code}): {detail}"
            )
        return f"oss://{key}"
