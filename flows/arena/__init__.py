"""ARENA, the academy's portal to STS-Web and SIECLE BEE: where the guide starts, fetching the
school's exports (exports.py), with the guide's own wording in labels.yaml."""
