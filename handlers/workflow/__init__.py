"""The case workflow every role's handlers share: the buyer's wizard, opening a case, the
seller's cards, the support desk, agreements, notifications and promises.

Role folders (buyer/, seller/, support/) hold only the handlers registered on their routers;
they import from here and never from one another (an import-linter contract in
pyproject.toml keeps it so). Nothing here imports a role folder."""
