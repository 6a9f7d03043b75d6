#!/usr/bin/env python3
"""Drives meshbox's MCP server with the official MCP Python SDK (tests/integration/mcp.rs).

Usage:
  mcp_session.py stdio MESHBOX_BINARY MESH_DIR [--role ROLE] [--mode auto|legacy] [--arg ARG ...]
  mcp_session.py http URL [--role ROLE] [--header NAME=VALUE ...] [--mode auto|legacy]

`stdio` starts `MESHBOX_BINARY mcp MESH_DIR --role ROLE ARG...` as the SDK's stdio client does (the MESHBOX_*
variables of this process are passed on); `http` connects to the Streamable HTTP endpoint URL, sending the role in
the X-Meshbox-Role header. `--mode` is the SDK's protocol negotiation (`auto` probes server/discover first).

Standard input: a JSON list of steps, each one of
  {"op": "list_tools"}
  {"op": "call", "tool": NAME, "args": {...}}
  {"op": "list_resources"}
  {"op": "read_resource", "uri": URI}
  {"op": "list_prompts"}
  {"op": "get_prompt", "name": NAME}
Standard output: one JSON object {"protocol_version", "server", "instructions", "results": [one per step]}. A step
refused at the protocol level answers {"protocol_error": {"code": CODE, "message": TEXT}}; a tool error is a normal
answer with "is_error": true.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


def texts(blocks: list[Any]) -> list[str]:
    """The text of every text block, in order."""
    return [b.text for b in blocks if getattr(b, "type", None) == "text"]


async def step(client: Client, s: dict[str, Any]) -> dict[str, Any]:
    """Runs one step and returns its answer as plain JSON."""
    op = s["op"]
    try:
        if op == "list_tools":
            listed = await client.list_tools()
            return {
                "tools": [
                    {
                        "name": t.name,
                        "title": t.title,
                        "description": t.description,
                        "input_schema": t.input_schema,
                        "read_only": bool(t.annotations and t.annotations.read_only_hint),
                    }
                    for t in listed.tools
                ]
            }
        if op == "call":
            r = await client.call_tool(s["tool"], s.get("args", {}))
            return {"is_error": bool(r.is_error), "text": texts(r.content), "structured": r.structured_content}
        if op == "list_resources":
            listed = await client.list_resources()
            return {
                "resources": [
                    {"uri": str(r.uri), "name": r.name, "title": r.title, "mime_type": r.mime_type}
                    for r in listed.resources
                ]
            }
        if op == "read_resource":
            r = await client.read_resource(s["uri"])
            return {
                "contents": [
                    {"uri": str(c.uri), "mime_type": c.mime_type, "text": getattr(c, "text", None)} for c in r.contents
                ]
            }
        if op == "list_prompts":
            listed = await client.list_prompts()
            return {"prompts": [{"name": p.name, "title": p.title, "description": p.description} for p in listed.prompts]}
        if op == "get_prompt":
            r = await client.get_prompt(s["name"], s.get("args"))
            return {
                "description": r.description,
                "messages": [{"role": m.role, "text": getattr(m.content, "text", None)} for m in r.messages],
            }
    except MCPError as e:
        return {"protocol_error": {"code": e.code, "message": e.error.message}}
    raise ValueError(f"unknown step {op!r}")


async def run(client: Client, steps: list[dict[str, Any]]) -> dict[str, Any]:
    async with client:
        results = [await step(client, s) for s in steps]
        info = client.server_info
        return {
            "protocol_version": client.protocol_version,
            "server": info.name if info else None,
            "instructions": client.instructions,
            "results": results,
        }


async def over_stdio(args: argparse.Namespace, steps: list[dict[str, Any]]) -> dict[str, Any]:
    command = ["mcp", args.mesh]
    if args.role:
        command += ["--role", args.role]
    command += args.arg
    env = {k: v for k, v in os.environ.items() if k.startswith("MESHBOX_") or k in ("HOME", "RUST_LOG")}
    server = StdioServerParameters(command=args.binary, args=command, env=env)
    return await run(Client(server, mode=args.mode, cache=None, read_timeout_seconds=120), steps)


async def over_http(args: argparse.Namespace, steps: list[dict[str, Any]]) -> dict[str, Any]:
    import httpx2

    headers = dict(h.split("=", 1) for h in args.header)
    if args.role:
        headers["X-Meshbox-Role"] = args.role
    timeout = httpx2.Timeout(30.0, read=120.0)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:
        transport = streamable_http_client(args.url, http_client=http)
        return await run(Client(transport, mode=args.mode, cache=None, read_timeout_seconds=120), steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="transport", required=True)
    stdio = sub.add_parser("stdio")
    stdio.add_argument("binary")
    stdio.add_argument("mesh")
    stdio.add_argument("--arg", action="append", default=[], help="one more argument for `meshbox mcp`")
    http = sub.add_parser("http")
    http.add_argument("url")
    http.add_argument("--header", action="append", default=[], help="NAME=VALUE")
    for p in (stdio, http):
        p.add_argument("--role")
        p.add_argument("--mode", default="auto", choices=["auto", "legacy"])
    args = parser.parse_args()
    steps = json.load(sys.stdin)
    out = asyncio.run(over_stdio(args, steps) if args.transport == "stdio" else over_http(args, steps))
    json.dump(out, sys.stdout, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
