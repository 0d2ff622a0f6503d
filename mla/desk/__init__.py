"""The desk: server-rendered pages for officers and prosecutors over the same services as the API.

Pages are templates (Jinja2) with htmx for partial updates; every asset ships in `static/`.
Nothing here queries the database: each page calls the domain services the API calls, with the
signed-in user as the actor, so scoping, audit and workflow rules are the API's own.
"""
