"""Anymail tracking receivers: record ESP events on deliveries and suppress bounces/complaints.

(Implemented by the sending work; this placeholder only exists so the app config can import it.)
"""
