using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Agora.NgsiLd;
using Agora.Security;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Market;

/// Self-service sign-up of consumer accounts (/market/v1/signup). An organisation without any credential signs
/// up in the tenant its NGSILD-Tenant header names, when that tenant takes sign-ups (its admin's switch, else
/// Agora:Market:OpenSignup), and gets the same account the city would register for it: a key (and OAuth2 client)
/// that reads only through its own active agreements. One address makes at most Agora:Market:SignupsPerAddress
/// accounts in any 24 hours, and a name that the tenant's agreements already give is not taken by sign-up.
internal static class SignupApi
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(24);

    public static void MapSignup(this RouteGroupBuilder market)
    {
        market.MapGet("/signup", (HttpContext http, MarketStore store, TenantStores stores, IOptions<MarketOptions> options) =>
            MarketApi.Json(Settings(store, options.Value, TenantOf(http, stores))));
        market.MapPut("/signup", ChangeAsync);
        market.MapPost("/signup", SignUpAsync);
    }

    private static JsonObject Settings(MarketStore store, MarketOptions options, string tenant) => new()
    {
        ["open"] = IsOpen(store, options, tenant),
        ["signupsPerAddress"] = options.SignupsPerAddress,
        ["pendingRequestsPerConsumer"] = options.PendingRequestsPerConsumer,
    };

    private static bool IsOpen(MarketStore store, MarketOptions options, string tenant) => store.SignupOpen(tenant) ?? options.OpenSignup;

    /// The tenant's admin opens or closes sign-up for its tenant (AccessRules: admin only).
    private static async Task<IResult> ChangeAsync(HttpContext http, MarketStore store, AuditLog audit, IOptions<MarketOptions> options)
    {
        var body = await MarketApi.BodyAsync(http);
        foreach (var (member, _) in body)
        {
            if (member is not "open")
            {
                throw MarketInput.Invalid(member, "is not a member of the sign-up setting (open).");
            }
        }
        var open = body["open"] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw MarketInput.Invalid("open", "must be true or false.");
        var tenant = MarketApi.TenantOf(http);
        store.SetSignupOpen(tenant, open);
        await MarketApi.AuditAsync(http, audit, $"consumer sign-up {(open ? "opened" : "closed")}");
        return MarketApi.Json(Settings(store, options.Value, tenant));
    }

    private static async Task<IResult> SignUpAsync(
        HttpContext http, MarketStore store, Agreements agreements, AuditLog audit, TimeProvider time, TenantStores stores, IOptions<MarketOptions> options)
    {
        var tenant = TenantOf(http, stores);
        if (!IsOpen(store, options.Value, tenant))
        {
            throw SecurityErrors.Denied("This tenant does not take sign-ups: the city registers its consumer organisations itself; ask its admin for an account.");
        }
        var name = ConsumersApi.NameOf(await MarketApi.BodyAsync(http));
        if (store.ConsumerNameTaken(tenant, name))
        {
            throw MarketApi.Conflict($"This tenant has a consumer named '{Entities.Names.Shorten(name)}' already, registered or named by agreements; "
                + "if it is your organisation, ask the city for its account.");
        }
        // Behind a reverse proxy every sign-up comes from the proxy's address, so the limit is then the proxy's.
        var address = AddressOf(http.Connection.RemoteIpAddress);
        var id = MarketApi.NewId("co");
        var now = time.GetUtcNow();
        var limit = options.Value.SignupsPerAddress;
        if (!store.TryReserveSignup(id, address, now, now - Window, limit))
        {
            var oldest = store.OldestSignup(address, now - Window) ?? now;
            var seconds = Math.Max(1, (int)Math.Ceiling((oldest + Window - now).TotalSeconds));
            // Once per address and window: a script that keeps trying does not flood the audit log.
            if (store.TryMarkThrottled(address, now, now - Window))
            {
                await audit.WriteAsync(http, tenant, null, AuditLog.Throttled, $"sign-up of '{name}' from {address}: {limit} accounts in 24 hours (further refusals until {MarketInput.Format(oldest + Window)} are not logged)");
            }
            http.Response.OnStarting(() =>
            {
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            });
            throw SecurityErrors.Throttled($"This address has signed up {limit} consumer accounts in the last 24 hours, as many as one address may; retry after {seconds} s.");
        }
        JsonObject consumer, answer;
        try
        {
            (consumer, answer) = ConsumersApi.Register(store, agreements, time, tenant, id, name);
        }
        catch
        {
            store.ReleaseSignup(id);
            throw;
        }
        await audit.WriteAsync(http, tenant, (string?)consumer["credential"], AuditLog.Changed,
            $"consumer {id} '{name}' signed up from {address}, " + ConsumersApi.Issued(consumer));
        return MarketApi.Created(http, "consumers", answer);
    }

    // Sign-up comes without a credential, so its tenant is the header's, checked as the broker checks it: valid,
    // and existing (sign-up does not make tenants).
    private static string TenantOf(HttpContext http, TenantStores stores)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        stores.Existing(tenant);
        return tenant;
    }

    /// The address a sign-up counts against: an IPv4 address, or the /64 network of an IPv6 one (a single host
    /// usually has a whole /64 to pick addresses from).
    public static string AddressOf(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
