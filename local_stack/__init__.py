"""The embedded local stack (moto DynamoDB, stream poller, jobs CLI) and the tools tests share.

Development only: nothing here is imported by app.py, and moto is not a runtime dependency."""
