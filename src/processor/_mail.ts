/** Mail over SMTP with nodemailer: one connection per message, bounded by the caller's signal. */
import { createTransport } from "nodemailer";
import { limits } from "../lib/mod.ts";
import type { MailServer } from "./config.ts";

export async function sendMail(
  server: MailServer,
  message: { to: string[]; subject: string; text: string },
  signal: AbortSignal,
): Promise<void> {
  const transport = createTransport({
    host: server.host,
    port: server.port,
    secure: server.port === 465, // implicit TLS on 465; STARTTLS when the server offers it
    // Dkron: SMTP auth only when both the username and the password are set.
    ...(server.username !== "" && server.password !== ""
      ? { auth: { user: server.username, pass: server.password } }
      : {}),
    connectionTimeout: limits.notifyTimeoutMs,
    greetingTimeout: limits.notifyTimeoutMs,
    socketTimeout: limits.notifyTimeoutMs,
  });
  const onAbort = () => transport.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await transport.sendMail({
      from: server.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
  } finally {
    signal.removeEventListener("abort", onAbort);
    transport.close();
  }
}
