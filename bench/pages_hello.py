"""Bare WSGI hello-world: the ceiling for gunicorn on this machine (bench/pages_run.sh)."""


def application(environ, start_response):
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
