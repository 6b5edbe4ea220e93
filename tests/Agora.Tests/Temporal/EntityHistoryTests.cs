using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// Writes through the entity API reach the history: every value an attribute took, the deletion of an
/// attribute, and the history outliving the entity; and a tenant that keeps no history records none.
public sealed class EntityHistoryTests
{
    private const string Car = "urn:ngsi-ld:Car:1";

    private const string NewCar = $$"""
        {
          "id": "{{Car}}", "type": "Car",
          "speed": {"type": "Property", "value": 50, "observedAt": "2024-05-01T10:00:00Z"},
          "colour": {"type": "Property", "value": "red", "observedAt": "2024-05-01T10:00:00Z"}
        }
        """;

    private static async Task PatchAsync(AgoraApplication app, string json)
    {
        using var client = app.CreateClient();
        using var response = await client.PatchAsync(AttrsPath(Car), Json(json));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task<AgoraApplication> DrivenCarAsync()
    {
        var app = new AgoraApplication();
        await app.CreateEntityAsync(NewCar);
        await PatchAsync(app, """{"speed": {"type": "Property", "value": 60, "observedAt": "2024-05-01T11:00:00Z"}}""");
        await PatchAsync(app, """
            {
              "speed": {"type": "Property", "value": 70, "observedAt": "2024-05-01T12:00:00Z"},
              "colour": {"type": "Property", "value": "blue", "observedAt": "2024-05-01T12:00:00Z"}
            }
            """);
        return app;
    }

    [Fact]
    public async Task EntityWritesAreRecordedOldestFirst()
    {
        await using var app = await DrivenCarAsync();

        var history = await app.HistoryAsync(Car);

        HistoryEqual($$"""
            {
              "id": "{{Car}}", "type": "Car",
              "speed": [{{P(50, "2024-05-01T10:00:00Z")}}, {{P(60, "2024-05-01T11:00:00Z")}}, {{P(70, "2024-05-01T12:00:00Z")}}],
              "colour": [{{P("red", "2024-05-01T10:00:00Z")}}, {{P("blue", "2024-05-01T12:00:00Z")}}]
            }
            """, history);
    }

    [Fact]
    public async Task DeletingAnAttributeRecordsADeletionInstance()
    {
        await using var app = await DrivenCarAsync();
        var before = DateTimeOffset.UtcNow;
        using (var client = app.CreateClient())
        {
            using var response = await client.DeleteAsync(AttrPath(Car, "colour"));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        var deletions = await app.HistoryAsync(Car, "?timeproperty=deletedAt");

        // Only the deleted attribute has an instance with deletedAt, and exactly one.
        Assert.Null(deletions["speed"]);
        var deletion = Assert.Single(deletions["colour"]!.AsArray())!.AsObject();
        Assert.Equal("Property", (string?)deletion["type"]);
        Assert.Equal("urn:ngsi-ld:null", (string?)deletion["value"]);
        var deletedAt = DateTimeOffset.Parse((string)deletion["deletedAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(deletedAt, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Null(deletion["observedAt"]);
    }

    [Fact]
    public async Task DeletingTheEntityKeepsItsHistory()
    {
        await using var app = await DrivenCarAsync();
        using (var client = app.CreateClient())
        {
            using var response = await client.DeleteAsync(EntityPath(Car));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        // The values observed before the deletion are still there (the window leaves out the deletion instances,
        // which carry no observedAt).
        var history = await app.HistoryAsync(Car, "?timerel=before&timeAt=2025-01-01T00:00:00Z");

        Assert.Equal([50, 60, 70], ValuesOf(history, "speed").Select(v => (int)v!));
        Assert.Equal(["red", "blue"], ValuesOf(history, "colour").Select(v => (string)v!));
    }

    [Fact]
    public async Task WithoutKeepHistoryEntityWritesRecordNothing()
    {
        await using var app = new AgoraApplication(("Agora:Temporal:KeepHistory", "false"));
        await app.CreateEntityAsync(NewCar);
        await PatchAsync(app, """{"speed": {"type": "Property", "value": 60, "observedAt": "2024-05-01T11:00:00Z"}}""");
        using var client = app.CreateClient();

        using var response = await client.GetAsync(HistoryPath(Car));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task ATenantWithoutKeepHistoryRecordsNothingWhileOthersDo()
    {
        await using var app = new AgoraApplication(("Agora:Temporal:Tenants:quiet:KeepHistory", "false"));
        await app.CreateEntityAsync(NewCar, tenant: "quiet");
        await app.CreateEntityAsync(NewCar, tenant: "loud");
        using var quiet = app.CreateClient("quiet");

        using var response = await quiet.GetAsync(HistoryPath(Car));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
        var loud = await app.HistoryAsync(Car, tenant: "loud");
        Assert.Equal([50], ValuesOf(loud, "speed").Select(v => (int)v!));
    }
}
