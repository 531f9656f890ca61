# Vault (or OpenBao) policy for the operator, for the TOTP engine at totp/.
# It writes, reads and deletes keys, and reads codes to check that Vault holds the seed IAM
# issued. Workloads that only need codes get read on totp/code/<key> alone.
#
# Narrow "totp/keys/*" to a prefix if your bindings use one in spec.vault.keyName,
# e.g. "totp/keys/team-a.*".
path "totp/keys/*" {
  capabilities = ["create", "update", "read", "delete"]
}

path "totp/code/*" {
  capabilities = ["read"]
}
