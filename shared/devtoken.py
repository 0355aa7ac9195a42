"""Mint a development token for the embedded default: ``python -m shared.devtoken --role R --tenant T [--sub S] [--name N]``."""

from __future__ import annotations

import argparse
import sys

from shared.auth import ROLES, load_or_create_dev_key, mint_token, tenant_refusal
from shared.config import CommonConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", action="append", choices=ROLES,
                        help="a role (repeat for several); default national_admin")
    parser.add_argument("--tenant", default="US", help="jurisdiction code, e.g. CA, GU or a Tribe's code")
    parser.add_argument("--sub", default="", help="subject (user id); default dev-<role>-<tenant>")
    parser.add_argument("--name", default="", help="display name")
    parser.add_argument("--hours", type=int, default=8, help="lifetime in hours")
    args = parser.parse_args(argv)
    roles = args.role or ["national_admin"]
    config = CommonConfig(**CommonConfig.common_from_env("dev"))
    if config.jwt_jwks_url:
        print("JWT_JWKS_URL is set: tokens come from your identity provider, not from here.",
              file=sys.stderr)
        return 2
    tenant = args.tenant.upper()
    refusal = tenant_refusal(tenant, set(roles))
    if refusal:
        print(f"{refusal} The services would refuse this token.", file=sys.stderr)
        return 2
    key = load_or_create_dev_key(config.jwt_dev_private_key_file)
    sub = args.sub.strip() or f"dev-{roles[0]}-{tenant.lower()}"
    print(mint_token(key, issuer=config.jwt_issuer, audience=config.jwt_audience, sub=sub,
                     tenant=tenant, roles=roles, ttl_seconds=args.hours * 3600,
                     name=args.name.strip()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
