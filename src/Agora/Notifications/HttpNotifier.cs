using System.Net.Http.Headers;
using System.Text;
using Agora.Storage;

namespace Agora.Notifications;

/// Delivers a notification as an HTTP(S) POST; any 2xx answer is a success.
internal sealed class HttpNotifier(IHttpClientFactory clients)
{
    public const string ClientName = "Agora.Notifications";

    public async Task<string?> SendAsync(string tenant, OutboxRow row, NotificationEndpoint endpoint, CancellationToken attempt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Uri)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(row.Body)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(row.ContentType, out var type)
            ? type
            : new MediaTypeHeaderValue("application/json");
        if (row.Link is not null)
        {
            request.Headers.TryAddWithoutValidation("Link", row.Link);
        }
        // The receiver of a notification from a tenant other than the default must be told which tenant it is
        // about, as a request to the broker names it.
        if (tenant != TenantStores.DefaultTenant)
        {
            request.Headers.TryAddWithoutValidation("NGSILD-Tenant", tenant);
        }
        foreach (var (key, value) in endpoint.ReceiverInfo)
        {
            // A key that names a content header (Content-Type...) would change what the body means: not sent.
            request.Headers.TryAddWithoutValidation(key, value);
        }

        using var client = clients.CreateClient(ClientName);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt);
        return response.IsSuccessStatusCode ? null : $"{endpoint.Uri} answered {(int)response.StatusCode} {response.ReasonPhrase}";
    }
}
