"""A simulator of ARENA, the academy's portal to STS-Web and SIECLE BEE (see app.py)."""
