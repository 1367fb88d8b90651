"""The German browser UI: a server-rendered Flask BFF and the portal's OIDC client.

Tokens stay on the server (DESIGN §2 rule 5); pages are composed from the
services' REST APIs, called server-side with the user's access token.
"""
