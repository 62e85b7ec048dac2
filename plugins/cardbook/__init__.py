"""cardbook: documentation-as-code for Nix runbooks."""
