"""The demo county for local trying-out (`flask --app portal init --demo`): a few months of
requests from the demo enterprises (services/seed.py) across bureaus and statuses, written through
the real services with the clock moved back. The stories are in `script`, the playing in `run`
(`run.play`). The same every time (a fixed random seed), relative to today; created once."""
