using System.Net;
using System.Text.Json.Nodes;
using Agora.Security;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Security;

/// admin, provider (optionally limited to entity types) and consumer, over the NGSI-LD API.
public sealed class RoleTests
{
    private const string Parking = """{"id": "urn:ngsi-ld:OffStreetParking:1", "type": "OffStreetParking", "free": 3}""";

    [Fact]
    public async Task AConsumerReadsButCannotWriteAndTheDenialNamesTheRight()
    {
        await using var app = SecuredAgora.Create();
        using var provider = app.Client(app.Key("", Role.Provider));
        using var consumer = app.Client(app.Key("", Role.Consumer));
        using var created = await provider.PostAsync(EntitiesPath, Json(SecuredAgora.Building));

        using var read = await consumer.GetAsync(EntityPath("urn:ngsi-ld:Building:1"));
        using var query = await consumer.PostAsync("/ngsi-ld/v1/entityOperations/query", Json("""{"type": "Query", "entities": [{"type": "Building"}]}"""));
        using var write = await consumer.PatchAsync(AttrsPath("urn:ngsi-ld:Building:1"), Json("""{"height": 99}"""));
        using var delete = await consumer.DeleteAsync(EntityPath("urn:ngsi-ld:Building:1"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        var problem = await ProblemAsync(write, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Contains("needs the right to write", (string?)problem["detail"]);
        Assert.Contains("role consumer", (string?)problem["detail"]);
        await ProblemAsync(delete, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Equal(12, (int)(await SecuredAgora.KeyValuesAsync(provider, "urn:ngsi-ld:Building:1"))["height"]!);
    }

    [Fact]
    public async Task AConsumerMaySubscribe()
    {
        await using var app = SecuredAgora.Create();
        using var consumer = app.Client(app.Key("", Role.Consumer));

        using var response = await consumer.PostAsync("/ngsi-ld/v1/subscriptions", Json("""
            {"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}}
            """));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task AProviderLimitedToTypesWritesThoseTypesOnly()
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));
        using var parkingOnly = app.Client(app.Key("", Role.Provider, types: ["OffStreetParking"]));
        using var building = await admin.PostAsync(EntitiesPath, Json(SecuredAgora.Building));

        using var ownType = await parkingOnly.PostAsync(EntitiesPath, Json(Parking));
        using var ownUpdate = await parkingOnly.PatchAsync(AttrsPath("urn:ngsi-ld:OffStreetParking:1"), Json("""{"free": 2}"""));
        using var otherType = await parkingOnly.PostAsync(EntitiesPath, Json("""{"id": "urn:ngsi-ld:Building:2", "type": "Building"}"""));
        using var otherEntity = await parkingOnly.PatchAsync(AttrsPath("urn:ngsi-ld:Building:1"), Json("""{"height": 1}"""));
        using var otherDelete = await parkingOnly.DeleteAsync(EntityPath("urn:ngsi-ld:Building:1"));
        using var replaceAsOwn = await parkingOnly.PutAsync(EntityPath("urn:ngsi-ld:Building:1"), Json("""{"type": "OffStreetParking"}"""));
        using var batchMixed = await parkingOnly.PostAsync("/ngsi-ld/v1/entityOperations/create",
            Json("""[{"id": "urn:ngsi-ld:OffStreetParking:2", "type": "OffStreetParking"}, {"id": "urn:ngsi-ld:Building:3", "type": "Building"}]"""));
        using var batchUpsert = await parkingOnly.PostAsync("/ngsi-ld/v1/entityOperations/upsert",
            Json("""[{"id": "urn:ngsi-ld:Building:1", "type": "OffStreetParking"}]"""));
        using var batchDelete = await parkingOnly.PostAsync("/ngsi-ld/v1/entityOperations/delete", Json("""["urn:ngsi-ld:Building:1"]"""));
        using var purge = await parkingOnly.DeleteAsync(EntitiesPath + "?type=Building");

        Assert.Equal(HttpStatusCode.Created, building.StatusCode);
        Assert.Equal(HttpStatusCode.Created, ownType.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, ownUpdate.StatusCode);
        var problem = await ProblemAsync(otherType, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Contains("Building", (string?)problem["detail"]);
        foreach (var denied in new[] { otherEntity, otherDelete, replaceAsOwn, batchMixed, batchUpsert, batchDelete, purge })
        {
            await ProblemAsync(denied, HttpStatusCode.Forbidden, "AccessDenied");
        }
        Assert.Equal(12, (int)(await SecuredAgora.KeyValuesAsync(admin, "urn:ngsi-ld:Building:1"))["height"]!);
        using var notCreated = await admin.GetAsync(EntityPath("urn:ngsi-ld:Building:3"));
        Assert.Equal(HttpStatusCode.NotFound, notCreated.StatusCode);
    }

    [Fact]
    public async Task AProviderLimitedToTypesCannotAddOtherTypesOrWriteAnotherTypesHistory()
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));
        using var parkingOnly = app.Client(app.Key("", Role.Provider, types: ["OffStreetParking"]));
        using var building = await admin.PostAsync(EntitiesPath, Json(SecuredAgora.Building));
        using var own = await parkingOnly.PostAsync(EntitiesPath, Json(Parking));
        const string ParkingId = "urn:ngsi-ld:OffStreetParking:1";

        using var appendType = await parkingOnly.PostAsync(AttrsPath(ParkingId), Json("""{"type": "Building", "height": {"type": "Property", "value": 77}}"""));
        using var mergeType = await parkingOnly.PatchAsync(EntityPath(ParkingId), Json("""{"type": "Building"}"""));
        using var history = await parkingOnly.PostAsync("/ngsi-ld/v1/temporal/entities",
            Json("""{"id": "urn:ngsi-ld:Building:1", "type": "OffStreetParking", "height": [{"type": "Property", "value": 999, "observedAt": "2030-01-01T00:00:00Z"}]}"""));
        using var ownAttribute = await parkingOnly.PatchAsync(AttrPath(ParkingId, "free"), Json("""{"type": "Property", "value": 3}"""));

        foreach (var denied in new[] { appendType, mergeType, history })
        {
            await ProblemAsync(denied, HttpStatusCode.Forbidden, "AccessDenied");
        }
        Assert.NotEqual(HttpStatusCode.Forbidden, ownAttribute.StatusCode);
        using var buildings = await admin.GetAsync(EntitiesPath + "?type=Building");
        Assert.Single(JsonNode.Parse(await buildings.Content.ReadAsStringAsync())!.AsArray());
        using var buildingHistory = await admin.GetAsync("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Building:1?attrs=height");
        Assert.DoesNotContain("999", await buildingHistory.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ATypeLimitIsCheckedOnTheExpandedTypeNotTheTermAsWritten()
    {
        await using var app = SecuredAgora.Create();
        using var parkingOnly = app.Client(app.Key("", Role.Provider, types: ["OffStreetParking"]));
        using var disguised = new HttpRequestMessage(HttpMethod.Post, EntitiesPath)
        {
            Content = Json("""
                {"id": "urn:ngsi-ld:X:1", "type": "OffStreetParking",
                 "@context": [{"OffStreetParking": "https://example.org/Secret"}, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]}
                """, "application/ld+json"),
        };

        using var response = await parkingOnly.SendAsync(disguised);

        await ProblemAsync(response, HttpStatusCode.Forbidden, "AccessDenied");
    }

    [Fact]
    public async Task AnOversizedBodyOfUnknownLengthFromATypeLimitedProviderIsAClientError()
    {
        await using var app = SecuredAgora.Create(("Agora:MaxBodyBytes", "2000"));
        using var parkingOnly = app.Client(app.Key("", Role.Provider, types: ["OffStreetParking"]));
        var body = $$"""{"id": "urn:ngsi-ld:OffStreetParking:9", "type": "OffStreetParking", "name": "{{new string('x', 10_000)}}"}""";
        using var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var request = new HttpRequestMessage(HttpMethod.Post, EntitiesPath) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await parkingOnly.SendAsync(request);

        await AnyProblemAsync(response);
        using var absent = await parkingOnly.GetAsync(EntityPath("urn:ngsi-ld:OffStreetParking:9"));
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
    }

    /// A tenant's @contexts are its own (clause 5.5.10): its credentials read them, its admin adds them, and no
    /// credential of another tenant reaches them.
    [Fact]
    public async Task ATenantsContextsAreReadByItsCredentialsAndAddedByItsAdmin()
    {
        await using var app = SecuredAgora.Create();
        using var consumer = app.Client(app.Key("valencia", Role.Consumer), "valencia");
        using var consumerElsewhere = app.Client(app.Key("valencia", Role.Consumer));
        using var tenantAdmin = app.Client(app.Key("valencia", Role.Admin), "valencia");
        using var operatorAdmin = app.Client(app.Key("", Role.Admin));
        const string context = """{"@context": {"Building": "https://example.org/Building"}}""";

        using var byConsumer = await consumer.PostAsync("/ngsi-ld/v1/jsonldContexts", Json(context));
        using var byTenantAdmin = await tenantAdmin.PostAsync("/ngsi-ld/v1/jsonldContexts", Json(context));
        using var byOperator = await operatorAdmin.PostAsync("/ngsi-ld/v1/jsonldContexts", Json(context));
        using var read = await consumer.GetAsync("/ngsi-ld/v1/jsonldContexts?kind=Hosted");
        using var readElsewhere = await consumerElsewhere.GetAsync("/ngsi-ld/v1/jsonldContexts");

        var problem = await ProblemAsync(byConsumer, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Contains("manage the tenant's @contexts", (string?)problem["detail"]);
        Assert.Equal(HttpStatusCode.Created, byTenantAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.Created, byOperator.StatusCode);
        var listed = JsonNode.Parse(await read.Content.ReadAsStringAsync())!.AsArray();
        Assert.EndsWith(byTenantAdmin.Headers.Location!.ToString(), (string?)Assert.Single(listed));
        await ProblemAsync(readElsewhere, HttpStatusCode.Forbidden, "AccessDenied");
    }
}
