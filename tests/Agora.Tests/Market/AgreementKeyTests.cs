using System.Net;
using Agora.Market;
using Microsoft.Extensions.DependencyInjection;
using Agora.Tests.Security;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// The credential of an agreement: the city approves without seeing a secret, and the consumer's own account
/// collects it once, rotates it or revokes it.
public sealed class AgreementKeyTests
{
    private const string Base = MarketAgora.Base;
    private const string AirQuality = MarketApiTests.AirQuality;

    [Fact]
    public async Task AnApprovalOfferingWaitsForTheCityAndItsConsumerCollectsTheKeyOnce()
    {
        await using var market = new MarketAgora();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(AirQuality));
        using var consumer = await market.AccountAsync();
        using var stranger = await market.AccountAsync("Someone Else");

        var requested = await MarketAgora.RequestAsync(consumer, offering);
        var id = (string)requested["id"]!;
        var early = await MarketAgora.CollectAsync(consumer, id, HttpStatusCode.Conflict);
        var approved = await market.ActAsync(id, "approve");
        var byTheCity = await MarketAgora.CollectAsync(market.Admin, id, HttpStatusCode.Forbidden);
        var byAnother = await MarketAgora.CollectAsync(stranger, id, HttpStatusCode.NotFound);
        var collected = await MarketAgora.CollectAsync(consumer, id);
        var again = await MarketAgora.CollectAsync(consumer, id, HttpStatusCode.Conflict);
        var stored = await SecuredAgora.JsonAsync(await market.Admin.GetAsync($"{Base}/agreements/{id}"));
        using var withKey = market.Consumer((string)collected["key"]!);
        using var read = await withKey.GetAsync(EntitiesPath + "?type=AirQualityObserved");

        Assert.Equal("pendingApproval", (string?)requested["state"]);
        Assert.Null(requested["key"]);
        Assert.Contains("pendingApproval", (string?)early["detail"], StringComparison.Ordinal);
        Assert.Equal("active", (string?)approved["state"]);
        // The city's answer carries no secret: no key, no client secret, not even a credential to pass on.
        Assert.DoesNotContain("agora_", approved.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(approved["clientSecret"]);
        Assert.Null(approved["credential"]);
        Assert.Contains("Acme Mobility", (string?)byTheCity["detail"], StringComparison.Ordinal);
        Assert.EndsWith("ResourceNotFound", (string?)byAnother["type"], StringComparison.Ordinal);
        Assert.StartsWith("agora_k", (string?)collected["key"], StringComparison.Ordinal);
        Assert.NotNull(collected["clientSecret"]);
        Assert.Contains("rotate", (string?)again["detail"], StringComparison.Ordinal);
        Assert.Equal("active", (string?)stored["state"]);
        Assert.Null(stored["key"]);
        Assert.Equal((string?)collected["credential"], (string?)stored["credential"]);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        await market.ActAsync(id, "approve", HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task RotationGivesANewKeyAndKillsTheOldOneAndRevocationKillsBoth()
    {
        await using var market = new MarketAgora();
        var (id, oldKey) = await market.AgreementAsync(AirQuality);
        using var account = await market.AccountAsync();
        using var stranger = await market.AccountAsync("Someone Else");

        using var byAnother = await stranger.PostAsync($"{Base}/agreements/{id}/credentials/rotate", null);
        using var byTheCity = await market.Admin.PostAsync($"{Base}/agreements/{id}/credentials/rotate", null);
        using var rotated = await account.PostAsync($"{Base}/agreements/{id}/credentials/rotate", null);
        var newKey = (string)(await SecuredAgora.JsonAsync(rotated))["key"]!;
        using var oldClient = market.Consumer(oldKey);
        using var newClient = market.Consumer(newKey);
        using var oldRead = await oldClient.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        using var newRead = await newClient.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        using var revoked = await account.DeleteAsync($"{Base}/agreements/{id}/credentials");
        using var afterRevoke = await newClient.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        using var nothingToRotate = await account.PostAsync($"{Base}/agreements/{id}/credentials/rotate", null);
        var recollected = await MarketAgora.CollectAsync(account, id);

        await NgsiLdAssert.ProblemAsync(byAnother, HttpStatusCode.NotFound);
        await NgsiLdAssert.ProblemAsync(byTheCity, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.NotEqual(oldKey, newKey);
        Assert.Equal(HttpStatusCode.Unauthorized, oldRead.StatusCode);
        Assert.Equal(HttpStatusCode.OK, newRead.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.StatusCode);
        await NgsiLdAssert.ProblemAsync(nothingToRotate, HttpStatusCode.Conflict);
        Assert.StartsWith("agora_k", (string?)recollected["key"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOpenOfferingActivatesAtOnceWithTheKeyForTheConsumerAccountOnly()
    {
        await using var market = new MarketAgora();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(AirQuality), "\"accessMode\": \"open\"");
        using var consumer = await market.AccountAsync();

        var agreement = await MarketAgora.RequestAsync(consumer, offering);
        var again = await MarketAgora.CollectAsync(consumer, (string)agreement["id"]!, HttpStatusCode.Conflict);
        var forAnother = await MarketAgora.RequestAsync(market.Admin, offering, "Someone Else");
        using var account = await market.AccountAsync("Someone Else");
        var collected = await MarketAgora.CollectAsync(account, (string)forAnother["id"]!);

        Assert.Equal("active", (string?)agreement["state"]);
        Assert.StartsWith("agora_k", (string?)agreement["key"], StringComparison.Ordinal);
        Assert.NotNull(again["detail"]);
        Assert.Equal("active", (string?)forAnother["state"]);
        Assert.DoesNotContain("agora_", forAnother.ToJsonString(), StringComparison.Ordinal);
        Assert.StartsWith("agora_k", (string?)collected["key"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASuspensionBetweenARotationsReadAndWriteStays()
    {
        await using var market = new MarketAgora();
        var (id, oldKey) = await market.AgreementAsync(AirQuality);
        var agreements = market.App.Services.GetRequiredService<Agreements>();
        var store = market.App.Services.GetRequiredService<MarketStore>();
        // The rotation read the agreement while it was active ...
        var read = store.Agreement(id)!;

        // ... the city suspends it, and only then does the rotation write its new credential.
        await market.ActAsync(id, "suspend");
        var rotated = agreements.Deliver(read, (string?)read["credential"]);
        var stored = store.Agreement(id)!;
        using var newClient = market.Consumer((string)rotated["key"]!);
        using var whileSuspended = await newClient.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        var resumed = await market.ActAsync(id, "resume");
        using var afterResume = await newClient.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        // A state change from a stale read leaves the credential collected meanwhile in place.
        var suspended = await market.ActAsync(id, "suspend");

        Assert.Equal("suspended", (string?)rotated["state"]);
        Assert.Equal("suspended", (string?)stored["state"]);
        Assert.Equal((string?)rotated["credential"], (string?)stored["credential"]);
        await NgsiLdAssert.ProblemAsync(whileSuspended, HttpStatusCode.Forbidden);
        Assert.Equal("active", (string?)resumed["state"]);
        Assert.Equal(HttpStatusCode.OK, afterResume.StatusCode);
        Assert.Equal((string?)rotated["credential"], (string?)suspended["credential"]);
        Assert.NotEqual(oldKey, (string)rotated["key"]!);
    }

    [Fact]
    public async Task SuspensionsRacingRotationsAlwaysEndSuspended()
    {
        await using var market = new MarketAgora();
        var (id, _) = await market.AgreementAsync(AirQuality);
        using var account = await market.AccountAsync();
        var store = market.App.Services.GetRequiredService<MarketStore>();
        for (var round = 0; round < 10; round++)
        {
            var rotate = account.PostAsync($"{Base}/agreements/{id}/credentials/rotate", null);
            var suspend = market.Admin.PostAsync($"{Base}/agreements/{id}/suspend", null);
            (await rotate).Dispose();
            (await suspend).Dispose();
            var stored = store.Agreement(id)!;
            Assert.Equal("suspended", (string?)stored["state"]);
            await market.ActAsync(id, "resume");
        }
    }

    [Fact]
    public async Task ARevocationThatLostARaceToARotationIsAConflictAndTheNewKeyLives()
    {
        await using var market = new MarketAgora();
        var (id, _) = await market.AgreementAsync(AirQuality);
        var store = market.App.Services.GetRequiredService<MarketStore>();
        var agreements = market.App.Services.GetRequiredService<Agreements>();
        using var account = await market.AccountAsync();
        var read = store.Agreement(id)!;
        // The rotation writes first; the revocation then clears the record only if it still names what it read.
        var rotated = agreements.Deliver(read, (string?)read["credential"]);
        agreements.RevokeAll("", id, (string?)rotated["credential"], (string?)rotated["clientId"]);

        var stale = store.ChangeCredentials("", id, null, null, (string?)read["credential"], Agreement.Active, Agreement.Suspended);
        using var revoked = await account.DeleteAsync($"{Base}/agreements/{id}/credentials");
        using var newClient = market.Consumer((string)rotated["key"]!);
        using var afterRevoke = await newClient.GetAsync(EntitiesPath + "?type=AirQualityObserved");

        Assert.False(stale);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.StatusCode);
        Assert.Null(store.Agreement(id)!["credential"]);
    }
}
