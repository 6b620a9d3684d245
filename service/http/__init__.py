"""The only package that imports FastAPI/Starlette: thin routes, dependencies, error mapping."""
