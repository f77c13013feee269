"""StockTool's AWS Lambda functions: each a folder (``handler.py``, ``lambda_settings.py``, ``requirements.txt``)
that runs the app's own code: its zip carries the project packages it imports, so the function and the web app
share one implementation. What they are and how they ship (``python manage.py deploy_lambdas``) is
provisioning: ``stocktool/provisioning/functions.py`` and ``packaging.py``.
"""
