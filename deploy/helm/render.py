#!/usr/bin/env python3
"""Renders the chart offline with helm-python-sdk (Helm's own library; no helm binary and no
cluster needed) and prints the manifests as one YAML stream.

    render.py CHART '{"auth": {"mode": "proxy", "trustedProxies": ["10.0.0.0/8"]}}' [--crds]

With --crds it prints the chart's CRDs instead of its templates. A template that fails (a
value the chart refuses) exits 1 with Helm's message.
"""

import json
import sys

import helm_python as helm


def main() -> int:
    chart = helm.Chart.load(sys.argv[1])
    values = json.loads(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else {}
    if "--crds" in sys.argv:
        docs = [crd["data"] for crd in chart.crds]
    else:
        try:
            rendered = chart.render(values, name="sidecar-console", namespace="sidecar-console", is_install=True)
        except Exception as e:  # Helm's render errors carry the template's message
            print(f"render failed: {e}", file=sys.stderr)
            return 1
        docs = [text for path, text in sorted(rendered.items()) if path.endswith(".yaml") and text.strip()]
    print("\n---\n".join(d.strip() for d in docs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
