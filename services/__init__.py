"""The application layer the API, the web pages and the CLI share: the services built from one ``Settings``
(``wiring.open_services``) and the response models their JSON is made of (``responses``)."""
