"""Distributed load: a plan's requests sent by a Locust cluster. Importing this never imports Locust.

Locust patches the standard library with gevent when it is imported, so only the modules that run
inside Locust's own process import it or gevent: ``locustfile`` (what ``locust -f`` loads: the user
class and event hooks) and ``roles`` (a sender's share, the master's coordination). ``source``
turns a file into a plan (or a worker's share of it), ``share`` makes a share's requests as they
are sent and the plan's fingerprint, ``cli`` is the ``load`` command, which runs Locust in a
process of its own.
"""
