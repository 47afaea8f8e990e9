# Sandbox overlay: no providers here. Every module in the sandbox is built only on
# the builtin terraform_data resource, so this environment plans and applies
# offline without downloading any provider.
