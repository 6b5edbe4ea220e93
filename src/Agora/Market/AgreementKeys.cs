using System.Text.Json.Nodes;
using Agora.Security;

namespace Agora.Market;

/// The credential of an agreement, which its consumer collects itself (/market/v1/agreements/{id}/credentials):
/// once, with its own account, after the city approved; then it rotates it (a new key, the old one dies at once)
/// or revokes it. The city approves without ever seeing a secret, and another account does not find the
/// agreement at all. An agreement's key is for an application that should read within that one agreement only;
/// the account's own credential already reads through all of its consumer's active agreements.
internal static class AgreementKeys
{
    public static void MapAgreementKeys(this RouteGroupBuilder market)
    {
        market.MapPost("/agreements/{id}/credentials", CollectAsync);
        market.MapPost("/agreements/{id}/credentials/rotate", RotateAsync);
        market.MapDelete("/agreements/{id}/credentials", RevokeAsync);
    }

    private static async Task<IResult> CollectAsync(HttpContext http, Agreements agreements, string id)
    {
        var agreement = Held(http, agreements, id, "collect");
        if (agreements.Live((string)agreement["tenant"]!, id).Count > 0)
        {
            throw MarketApi.Conflict($"The credential of agreement {id} was collected already and is shown only once; "
                + $"rotate it (POST /market/v1/agreements/{id}/credentials/rotate) for a new one, which revokes the old.");
        }
        var answer = await agreements.CollectAsync(http, agreement, (string?)agreement["credential"]);
        return MarketApi.Created(http, "agreements", answer);
    }

    private static async Task<IResult> RotateAsync(HttpContext http, Agreements agreements, AuditLog audit, string id)
    {
        var agreement = Held(http, agreements, id, "rotate");
        var tenant = (string)agreement["tenant"]!;
        if (agreements.Live(tenant, id).Count == 0)
        {
            throw MarketApi.Conflict($"Agreement {id} has no credential to rotate; collect one (POST /market/v1/agreements/{id}/credentials).");
        }
        var answer = agreements.Deliver(agreement, (string?)agreement["credential"]);
        agreements.RevokeAll(tenant, id, (string?)answer["credential"], (string?)answer["clientId"]);
        await MarketApi.AuditAsync(http, audit, $"agreement {id}: key rotated to {answer["credential"]} by consumer '{agreement["consumer"]}', the old revoked");
        return MarketApi.Json(answer);
    }

    /// Revokes the agreement's credentials at once; the consumer (or the city, for a key it thinks leaked) may, and
    /// the consumer may collect a new one afterwards.
    private static async Task<IResult> RevokeAsync(HttpContext http, Agreements agreements, MarketStore store, AuditLog audit, string id)
    {
        var agreement = agreements.Own(http, id);
        if (!MarketApi.IsAdmin(http) && !Agreements.IsHolder(http, agreement))
        {
            throw SecurityErrors.Denied($"The credential of agreement {id} is revoked by its consumer's account or by the city's admin.");
        }
        var tenant = (string)agreement["tenant"]!;
        // The record is cleared first, on the condition that it still names the credential read: a collection or
        // rotation that came meanwhile is not undone behind its consumer's back (409, read again). An agreement
        // that ended keeps its record as it was: its credentials are revoked all the same.
        if (agreement["credential"] is not null && (string)agreement["state"]! is Agreement.Active or Agreement.Suspended
            && !store.ChangeCredentials(tenant, id, null, null, (string?)agreement["credential"], Agreement.Active, Agreement.Suspended))
        {
            throw MarketApi.Conflict($"Agreement {id} changed meanwhile (its credential was collected, rotated or revoked, or it ended); read it again.");
        }
        agreements.RevokeAll(tenant, id);
        await MarketApi.AuditAsync(http, audit, $"agreement {id}: credentials revoked");
        return Results.NoContent();
    }

    // The agreement, if the caller is its consumer's account and it is active or suspended: another account does
    // not find it (404), the city and tenant-wide keys are refused (403), and an agreement that is pending or
    // ended has no credential to give (409).
    private static JsonObject Held(HttpContext http, Agreements agreements, string id, string verb)
    {
        var agreement = agreements.Own(http, id);
        if (!Agreements.IsHolder(http, agreement))
        {
            throw SecurityErrors.Denied($"Only the account of the consumer '{Entities.Names.Shorten((string)agreement["consumer"]!)}' may {verb} the credential of agreement {id}: "
                + "the city approves agreements without seeing their secrets.");
        }
        var state = (string)agreement["state"]!;
        return state is Agreement.Active or Agreement.Suspended
            ? agreement
            : throw MarketApi.Conflict($"Agreement {id} is {state}; its credential is collected while it is active or suspended.");
    }
}
