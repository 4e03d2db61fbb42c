/** `--help` texts of the security commands (acl, audit, tls), merged into help.ts's table. */

const client =
  "  --address, -a URL   the agent (default $TOCK_ADDR, else http://127.0.0.1:8080)\n" +
  "  --token SECRET      ACL token (default $TOCK_TOKEN)\n" +
  "  --ca-file FILE      CA of an HTTPS agent (default $TOCK_CACERT)\n" +
  "  --cert-file FILE    client certificate (default $TOCK_CLIENT_CERT)\n" +
  "  --key-file FILE     client key (default $TOCK_CLIENT_KEY)";

export const securityHelp: Record<string, string> = {
  acl: `Usage: tock acl <subcommand> [flags]

Subcommands:
  bootstrap                          create the first management token (once per cluster)
  token create --name N [--type client|management] [--policy P ...]
                                     create a token; its secret is printed only now
  token list | token self | token delete ACCESSOR
  policy apply -r FILE [--name N]    create or replace a policy (YAML or JSON)
  policy list | policy info NAME | policy delete NAME

Flags:
${client}`,
  audit: `Usage: tock audit [--after SEQ] [--limit N] [flags]

Prints audit entries after SEQ, oldest first, one JSON line each (needs operator "audit").

Flags:
${client}`,
  tls: `Usage: tock tls ca create [--dir DIR] [--days N] [--common-name CN]
       tock tls cert create --server|--client [--ca FILE] [--key FILE] [--dir DIR] [--days N]
            [--additional-dnsname NAME ...] [--additional-ipaddress IP ...]

Creates a cluster CA (tock-agent-ca.pem, tock-agent-ca-key.pem) and certificates it signs
(tock-server-N.pem / tock-client-N.pem with their -key.pem). Keys are mode 0600; no file is
overwritten.`,
};

/** The agent's security flags, appended to its help. */
export const agentSecurityFlags = `
Security:
  --acl-enabled         require ACL tokens (config acl: {enabled: true})
  --insecure-api        allow an open API on a non-loopback address (without ACLs)
  --cert-file FILE      serve the API over HTTPS with this certificate (SIGHUP reloads)
  --key-file FILE       its private key
  --trusted-ca-file CA  CA of client certificates
  --client-cert-auth    require client certificates from that CA
  --audit-max-entries N audit entries kept (default and maximum 100000)
  --audit-max-age D     audit entries' age limit (default and maximum 720h)`;
