"""Mint a development token for the embedded default: ``python -m shared.devtoken --role R --tenant T [--sub S] [--name N] [--tribe]``."""

from __future__ import annotations

import argparse
import re
import sys

from shared.auth import ROLES, load_or_create_dev_key, mint_token, tenant_refusal
from shared.config import CommonConfig
from shared.jurisdictions import CODE_PATTERN, is_jurisdiction


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--role", action="append", choices=ROLES, help="a role (repeat for several); default national_admin"
    )
    parser.add_argument("--tenant", default="US", help="jurisdiction code, e.g. CA, GU or a Tribe's code")
    parser.add_argument("--sub", default="", help="subject (user id); default dev-<role>-<tenant>")
    parser.add_argument("--name", default="", help="display name")
    parser.add_argument(
        "--tribe",
        action="store_true",
        help="the tenant is a Tribe added in scheduling (POST /jurisdictions), which the static "
        "list does not hold: only the code's form is checked here",
    )
    parser.add_argument("--hours", type=int, default=8, help="lifetime in hours")
    args = parser.parse_args(argv)
    roles = args.role or ["national_admin"]
    config = CommonConfig(**CommonConfig.common_from_env("dev"))
    if config.jwt_jwks_url:
        print("JWT_JWKS_URL is set: tokens come from your identity provider, not from here.", file=sys.stderr)
        return 2
    tenant = args.tenant.upper()
    # A Tribe lives in the services' own tables, which a token maker cannot read: the services
    # still refuse the token until the Tribe has been added.
    known = (lambda code: re.match(CODE_PATTERN, code) is not None) if args.tribe else is_jurisdiction
    refusal = tenant_refusal(tenant, set(roles), known=known)
    if refusal:
        print(f"{refusal} The services would refuse this token.", file=sys.stderr)
        return 2
    key = load_or_create_dev_key(config.jwt_dev_private_key_file)
    sub = args.sub.strip() or f"dev-{roles[0]}-{tenant.lower()}"
    print(
        mint_token(
            key,
            issuer=config.jwt_issuer,
            audience=config.jwt_audience,
            sub=sub,
            tenant=tenant,
            roles=roles,
            ttl_seconds=args.hours * 3600,
            name=args.name.strip(),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
