"""Connectivity test: print the Amber server's version.

The seed SDK's connectivity example, plus ``--local``:

    python examples/connect-example.py            # your Amber account (~/.Amber.license)
    python examples/connect-example.py --local    # an embedded local server, no account
"""

import argparse
import json
import sys

from boonamber import AmberClient, AmberCloudError, AmberUserError

parser = argparse.ArgumentParser(description="Print the Amber server's version.")
parser.add_argument("--local", action="store_true", help="use an embedded local server")
args = parser.parse_args()

try:
    # At initialization the client discovers Amber account credentials
    # under the "default" entry in the ~/.Amber.license file.
    amber = AmberClient.local() if args.local else AmberClient()
    with amber:
        version_info = amber.get_version()
except AmberCloudError as e:
    # AmberCloudError is raised upon any error response from the Amber server.
    print(f"Amber Cloud error: {e}", file=sys.stderr)
    sys.exit(1)
except AmberUserError as e:
    # AmberUserError is raised upon client-side usage errors with the SDK,
    # for example when no credentials are configured.
    print(f"Amber user error: {e} (no Amber account configured? try --local)", file=sys.stderr)
    sys.exit(1)

print(json.dumps(version_info, indent=4))
