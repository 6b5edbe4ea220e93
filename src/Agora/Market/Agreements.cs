using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Security;

namespace Agora.Market;

/// The life of an agreement: requested by a consumer account (or by the city for a consumer), approved or
/// rejected, suspended and resumed, terminated, expired when its end passes. It freezes the offering's terms and
/// its data source's scope when it is made, so later edits of the offering change no agreement. The consumer
/// collects the agreement's own API key (AgreementKeys), shown once; terminating revokes it. Every change is
/// audited.
internal sealed class Agreements(
    MarketStore store, Credentials credentials, SecurityStore security, AuditLog audit, TimeProvider time,
    Microsoft.Extensions.Options.IOptions<SecurityOptions> options, Microsoft.Extensions.Options.IOptions<MarketOptions> market)
{
    // Agora's own issuer, when it runs, also gives each agreement an OAuth2 client (client credentials).
    private readonly bool _clients = options.Value.Issuer.Enabled;
    private readonly int _pending = market.Value.PendingRequestsPerConsumer;

    public static readonly string[] Actions = ["approve", "reject", "suspend", "resume", "terminate"];

    public async Task<IResult> RequestAsync(HttpContext http)
    {
        var caller = Caller.Of(http.User)!;
        // An agreement's own key acts within that agreement only: it cannot take out another one (a suspended
        // consumer would otherwise mint itself a fresh key).
        if (caller.Agreement is not null)
        {
            throw new Errors.NgsiLdException(Errors.ErrorTypes.OperationNotSupported, "Not with an agreement's key",
                "Agreements are requested with the consumer's own credential, not with the key of another agreement.", 403);
        }
        // A tenant-wide key (a city's own app) reads the whole tenant without any agreement: it does not shop, nor
        // request agreements in an organisation's name. Consumers shop with their own account; the city's admin
        // may request for a consumer it names.
        if (caller.Role != Role.Admin && caller.Consumer is null)
        {
            throw SecurityErrors.Denied("Agreements are requested with a consumer account's credential (POST /market/v1/signup, or one the city "
                + "registers at /market/v1/consumers), or by the city's admin for a named consumer; this credential is a tenant-wide one of role "
                + Roles.Name(caller.Role) + ".");
        }
        var body = await MarketApi.BodyAsync(http);
        foreach (var (name, _) in body)
        {
            if (name is not ("offering" or "consumer" or "endAt"))
            {
                throw MarketInput.Invalid(name, "is not a member of an agreement request (offering, consumer, endAt).");
            }
        }
        var offeringId = MarketInput.Text(body, "offering", required: true, max: 100)!;
        // A consumer organisation's own key requests for that organisation only (its name is the default).
        var consumer = MarketInput.Text(body, "consumer", required: caller.Consumer is null, max: 200) is { } named
            ? ConsumerNames.Canonical(named, "consumer")
            : caller.Consumer!;
        if (caller.Consumer is { } own && consumer != own)
        {
            throw SecurityErrors.Denied($"This credential is the consumer '{own}''s; it requests agreements for that consumer only, not for '{Entities.Names.Shorten(consumer)}'.");
        }
        var offering = caller.Tenant is var tenant && store.Offering(tenant, offeringId) is { } found && (string?)found["state"] == "published"
            ? found
            : throw MarketApi.NotFound("Offering", offeringId);
        var mode = (string)offering["accessMode"]!;
        if (mode == "closed")
        {
            throw MarketApi.Conflict($"Offering {offeringId} is closed: it takes no new agreements.");
        }
        var now = time.GetUtcNow();
        var end = EndOf(body, offering, now);
        var terms = offering.DeepClone().AsObject();
        foreach (var name in new[] { "id", "tenant", "state", "createdAt", "modifiedAt" })
        {
            terms.Remove(name);
        }
        terms["dataSource"] = store.DataSource(tenant, (string)offering["dataSource"]!)!.DeepClone();
        var agreement = new JsonObject
        {
            ["id"] = MarketApi.NewId("ag"),
            ["tenant"] = tenant,
            ["offering"] = offeringId,
            ["consumer"] = consumer,
            ["state"] = Agreement.PendingApproval,
            ["requestedBy"] = caller.CredentialId,
            ["createdAt"] = MarketInput.Format(now),
            ["modifiedAt"] = MarketInput.Format(now),
            ["endAt"] = MarketInput.Format(end),
            ["terms"] = terms,
        };
        // A consumer account may have only so many requests waiting; the count and the insert are one step.
        if (!store.InsertAgreement(tenant, agreement, caller.CredentialId, caller.Consumer is not null && mode == "approval" ? _pending : null))
        {
            throw SecurityErrors.Throttled($"The consumer '{Entities.Names.Shorten(consumer)}' has {_pending} agreement requests waiting for the city's approval, "
                + "as many as one consumer may; request more once the city has answered one, or withdraw one (POST /market/v1/agreements/{id}/terminate).");
        }
        await MarketApi.AuditAsync(http, audit, $"agreement {agreement["id"]} requested for offering {offeringId} by consumer '{consumer}'");
        if (mode == "open")
        {
            // An open offering needs no one's approval: the agreement is active at once. A consumer account that
            // asked for it is its consumer, so its key is collected in this answer; the city asking for a consumer
            // gets none, and the consumer collects it with its own account.
            agreement = await MoveAsync(http, agreement, Agreement.Active, [Agreement.PendingApproval], "activated (open offering)");
            if (caller.Consumer is not null)
            {
                try
                {
                    agreement = await CollectAsync(http, agreement, null);
                }
                catch (Errors.NgsiLdException e) when (e.Status == 409)
                {
                    // The agreement exists (it was suspended or collected meanwhile): it is answered without a key,
                    // which the account collects later, rather than as a failure that hides the agreement made.
                    agreement = store.Agreement((string)agreement["id"]!) ?? agreement;
                }
            }
        }
        return MarketApi.Created(http, "agreements", agreement);
    }

    public async Task<IResult> ActAsync(HttpContext http, string id, string action)
    {
        var agreement = Own(http, id);
        // A consumer account ends its own agreements (withdraws a request, stops one that is active); every other
        // change is the city's.
        if (!MarketApi.IsAdmin(http) && !(action == "terminate" && IsHolder(http, agreement)))
        {
            throw SecurityErrors.Denied($"Only the city (role admin) may {action} an agreement"
                + (action == "terminate" ? ", or the consumer account whose agreement it is." : "."));
        }
        var changed = action switch
        {
            // Approval issues no credential: the consumer collects it with its own account, so no secret passes
            // through the city's hands.
            "approve" => await MoveAsync(http, agreement, Agreement.Active, [Agreement.PendingApproval], "approved"),
            "resume" => await MoveAsync(http, agreement, Agreement.Active, [Agreement.Suspended], "resumed"),
            "reject" => await MoveAsync(http, agreement, Agreement.Rejected, [Agreement.PendingApproval], "rejected"),
            "suspend" => await MoveAsync(http, agreement, Agreement.Suspended, [Agreement.Active], "suspended"),
            _ => await TerminateAsync(http, agreement),
        };
        return MarketApi.Json(changed);
    }

    /// The agreements the caller may see: all of the tenant's for its admin; for a consumer those it asked for
    /// and the one its key was issued for.
    public List<JsonObject> Visible(HttpContext http)
    {
        var caller = Caller.Of(http.User)!;
        var admin = caller.Role == Role.Admin;
        return [.. store.Agreements(caller.Tenant, admin ? null : caller.CredentialId, caller.Agreement, caller.Consumer).Select(Current)];
    }

    public JsonObject Own(HttpContext http, string id)
    {
        var caller = Caller.Of(http.User)!;
        var doc = store.Agreement(id);
        var visible = doc is not null && (string?)doc["tenant"] == caller.Tenant
            && (caller.Role == Role.Admin || (string?)doc["requestedBy"] == caller.CredentialId || caller.Agreement == id
                || (caller.Consumer is not null && (string?)doc["consumer"] == caller.Consumer));
        return visible ? Current(doc!) : throw MarketApi.NotFound("Agreement", id);
    }

    // The state as of now: an agreement whose end has passed reads as expired, which is also recorded.
    private JsonObject Current(JsonObject doc)
    {
        var now = time.GetUtcNow();
        var state = Agreement.StateOf(doc, now);
        if (state == Agreement.Expired && (string?)doc["state"] != Agreement.Expired)
        {
            var previous = (string)doc["state"]!;
            doc["state"] = state;
            doc["modifiedAt"] = MarketInput.Format(now);
            if (store.ChangeAgreement((string)doc["tenant"]!, (string)doc["id"]!, state, (string)doc["modifiedAt"]!, [previous]))
            {
                _ = audit.WriteAsync(new AuditEntry(now, (string)doc["tenant"]!, null, "agreement " + doc["id"], AuditLog.Changed,
                    $"agreement {doc["id"]} expired at {doc["endAt"]}", null));
            }
        }
        return doc;
    }

    /// Whether the caller is the consumer account of this agreement: a credential of the organisation the
    /// agreement names (its key, or a token mapped by the consumer claim), not an agreement's own key.
    public static bool IsHolder(HttpContext http, JsonObject agreement) =>
        Caller.Of(http.User) is { Agreement: null, Consumer: { } own } && own == (string?)agreement["consumer"];

    /// Issues the agreement's key (and client) and records them, if the agreement still names `previous` as its
    /// credential and is active or suspended; the answer is the agreement with the secrets, shown here only (only
    /// their hashes are kept). 409 when another collection, rotation or state change came first: the credentials
    /// made here are then revoked, never shown.
    public JsonObject Deliver(JsonObject agreement, string? previous)
    {
        var id = (string)agreement["id"]!;
        var tenant = (string)agreement["tenant"]!;
        // The key lives as long as the agreement is not terminated: past the agreement's end it still
        // authenticates, so that its reads are refused naming the expired agreement and its usage stays readable.
        var (credential, key, client, secret) = Issue(tenant, new CredentialRequest(Role.Consumer, null, $"agreement {id}", null, null, id));
        if (!store.ChangeCredentials(tenant, id, credential.Id, client?.Id, previous, Agreement.Active, Agreement.Suspended))
        {
            Revoke(tenant, new JsonObject { ["credential"] = credential.Id, ["clientId"] = client?.Id });
            throw MarketApi.Conflict($"Agreement {id} changed meanwhile (its credential was collected or it ended); read it again.");
        }
        // The record as stored now: a suspension that came meanwhile shows in the answer.
        var answer = store.Agreement(id) ?? agreement.DeepClone().AsObject();
        answer["key"] = key;
        if (client is not null)
        {
            answer["clientSecret"] = secret;
            answer["tokenEndpoint"] = TokenIssuer.TokenPath;
        }
        return answer;
    }

    /// Delivers the agreement's key to its consumer (see Deliver) and audits the collection.
    public async Task<JsonObject> CollectAsync(HttpContext http, JsonObject agreement, string? previous)
    {
        var answer = Deliver(agreement, previous);
        await MarketApi.AuditAsync(http, audit, $"agreement {agreement["id"]}: key {answer["credential"]} collected by consumer '{agreement["consumer"]}'");
        return answer;
    }

    /// The agreement's keys and clients that still authenticate.
    public List<Credential> Live(string tenant, string agreement)
    {
        var now = time.GetUtcNow();
        return [.. new[] { CredentialKind.ApiKey, CredentialKind.Client }.SelectMany(kind => security.List(kind, tenant))
            .Where(c => c.Agreement == agreement && c.IsActive(now))];
    }

    /// Revokes every credential of the agreement but those named: whatever its record says, none is left behind.
    public void RevokeAll(string tenant, string agreement, params string?[] keep)
    {
        foreach (var credential in Live(tenant, agreement).Where(c => !keep.Contains(c.Id)))
        {
            security.Revoke(credential.Kind, tenant, credential.Id, time.GetUtcNow());
        }
    }

    /// An API key and, when Agora's issuer runs, an OAuth2 client for the same request: both or neither (a key
    /// made before the client failed is revoked, so no credential is left that no answer ever showed).
    public (Credential Key, string Secret, Credential? Client, string? ClientSecret) Issue(string tenant, CredentialRequest request)
    {
        var (credential, key) = credentials.CreateApiKey(tenant, request);
        try
        {
            var (client, secret) = _clients ? credentials.CreateClient(tenant, request) : ((Credential?)null, (string?)null);
            return (credential, key, client, secret);
        }
        catch
        {
            security.Revoke(CredentialKind.ApiKey, tenant, credential.Id, time.GetUtcNow());
            throw;
        }
    }

    private async Task<JsonObject> TerminateAsync(HttpContext http, JsonObject agreement)
    {
        var changed = await MoveAsync(http, agreement, Agreement.Terminated, [Agreement.PendingApproval, Agreement.Active, Agreement.Suspended], "terminated");
        RevokeAll((string)changed["tenant"]!, (string)changed["id"]!);
        return changed;
    }

    /// Revokes the key and the client a market record (an agreement, a consumer) names in credential and clientId.
    public void Revoke(string tenant, JsonObject agreement)
    {
        if ((string?)agreement["credential"] is { } key)
        {
            security.Revoke(CredentialKind.ApiKey, tenant, key, time.GetUtcNow());
        }
        if ((string?)agreement["clientId"] is { } client)
        {
            security.Revoke(CredentialKind.Client, tenant, client, time.GetUtcNow());
        }
    }

    private async Task<JsonObject> MoveAsync(HttpContext http, JsonObject agreement, string state, string[] from, string what)
    {
        var id = (string)agreement["id"]!;
        var previous = (string)agreement["state"]!;
        if (!from.Contains(previous))
        {
            throw MarketApi.Conflict($"Agreement {id} is {previous}; it can be {what} only when it is {string.Join(" or ", from)}.");
        }
        if (!store.ChangeAgreement((string)agreement["tenant"]!, id, state, MarketInput.Format(time.GetUtcNow())!, from))
        {
            throw MarketApi.Conflict($"Agreement {id} changed meanwhile; read it again.");
        }
        await MarketApi.AuditAsync(http, audit, $"agreement {id} {what}: {previous} -> {state}");
        // The record as stored now, with any credential collected meanwhile.
        return store.Agreement(id)!;
    }

    private static DateTimeOffset? EndOf(JsonObject body, JsonObject offering, DateTimeOffset now)
    {
        var asked = body["endAt"] switch
        {
            null => (DateTimeOffset?)null,
            JsonValue v when v.TryGetValue<string>(out var s)
                && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && t > now => t,
            _ => throw MarketInput.Invalid("endAt", "must be a future date-time such as 2027-01-31T00:00:00Z."),
        };
        // A custom licence granted for a period ends every agreement under it with the period.
        var licenceEnd = MarketInput.PeriodEnd(offering["licence"]);
        if (licenceEnd is { } l && l <= now)
        {
            throw MarketApi.Conflict("The offering's licence period has ended; it takes no new agreements.");
        }
        return asked is null ? licenceEnd : licenceEnd is null ? asked : asked < licenceEnd ? asked : licenceEnd;
    }
}
