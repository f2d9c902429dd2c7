"""The ENT simulator (ESUP-Portail as the Montpellier guide shows it) and its CAS 2.0 server."""
