"""The `cardbook` command over the core, the Nix part and the site part."""
