"""web: the pages served by the app (plain HTML and small JavaScript, no CDN).

``templates/`` holds one HTML file per page, ``static/`` the shared script and style files.
Pages read their settings (terminal key, wallet session) from the address or local storage
and talk only to the JSON API.
"""
