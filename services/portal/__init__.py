"""The portal: server-rendered pages for host agencies, facilitators, participants and anyone holding a certificate.

It owns no data: every page reads and writes through the content and scheduling services' public REST
APIs, with the signed-in person's bearer token, and publishes or consumes no events.
"""
