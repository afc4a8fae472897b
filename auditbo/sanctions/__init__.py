"""Sanctions by hand: on certificates (suspend, reinstate, downgrade, revoke) and in the registry
(warn, suspend, revoke a body or a person), with four eyes for revocation, and the 失信名单."""
