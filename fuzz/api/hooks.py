"""Checks of the console's own promises beside schemathesis' checks.

`refused_writes_write_nothing`: a create, update or delete answered with an error, or asked
as a dry run, leaves every Pipeline's spec in the cluster as it was. The cluster is read
directly (the kubeconfig in SIDECAR_KUBECONFIG), not through the console.
Sound only with one worker (`-w 1`): another worker's write would look like this one's.
"""

import json
import os
import ssl
import urllib.request

import schemathesis
import yaml

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
_before = {}


def _cluster():
    with open(os.environ["SIDECAR_KUBECONFIG"], encoding="utf-8") as f:
        config = yaml.safe_load(f)
    server = config["clusters"][0]["cluster"]["server"]
    token = config["users"][0]["user"].get("token")
    return server, token


SERVER, TOKEN = _cluster()


def _specs():
    request = urllib.request.Request(f"{SERVER}/apis/core.calyptia.com/v1/pipelines")
    if TOKEN:
        request.add_header("Authorization", f"Bearer {TOKEN}")
    context = ssl._create_unverified_context() if SERVER.startswith("https") else None
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        items = json.load(response)["items"]
    return {
        f'{p["metadata"]["namespace"]}/{p["metadata"]["name"]}': json.dumps(p.get("spec"), sort_keys=True)
        for p in items
    }


def _dry_run(case):
    return (case.query or {}).get("dryRun") in ("true", "All")


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() in MUTATING:
        _before[id(case)] = _specs()


@schemathesis.check
def refused_writes_write_nothing(ctx, response, case):
    before = _before.pop(id(case), None)
    if before is None or (response.status_code < 400 and not _dry_run(case)):
        return None
    after = _specs()
    if after != before:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        what = "a dry run" if response.status_code < 400 else f"answered {response.status_code}"
        raise AssertionError(f"{what}, yet the cluster changed: {', '.join(changed)}")
    return None
