/**
 * The webhook sink: POSTs each event as JSON to an http(s) endpoint, signed the Standard Webhooks way; selected by
 * {@code PGBRIDGE_UPSTREAM_URI=https://...}. Start at {@link io.pgbridge.webhook.WebhookSink}.
 */
package io.pgbridge.webhook;
