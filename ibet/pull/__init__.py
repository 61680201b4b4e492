"""Pull each agency's daily extract from where it publishes it: a local folder (the default), an SFTP
server or an HTTPS endpoint, named by the Airflow Connection ``ibet_<agency>``."""
