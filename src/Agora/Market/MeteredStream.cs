namespace Agora.Market;

/// The response body of a read through an agreement, passed on as it is written while counting its bytes and
/// the items of a top-level JSON array (the entities of a query answer) or the objects in an array member of a
/// top-level object (the features of a GeoJSON FeatureCollection), with no buffering and no parse.
internal sealed class MeteredStream(Stream inner) : Stream
{
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private bool _array;
    private bool _innerArray;

    // The last string read directly in a top-level object (its first bytes): the member name before an array.
    private readonly byte[] _key = new byte[9];
    private int _keyLength;

    public long Bytes { get; private set; }

    public long TopLevelItems { get; private set; }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Count(buffer);
        inner.Write(buffer);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Count(buffer.Span);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Count(ReadOnlySpan<byte> bytes)
    {
        Bytes += bytes.Length;
        foreach (var b in bytes)
        {
            if (_inString)
            {
                // The byte after a backslash is part of the string whatever it is; an unescaped quote ends it.
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (b == '\\')
                {
                    _escaped = true;
                }
                else if (b == '"')
                {
                    _inString = false;
                }
                else if (_depth == 1 && _keyLength < _key.Length)
                {
                    _key[_keyLength++] = b;
                }
                continue;
            }
            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    _keyLength = 0;
                    break;
                case (byte)'[' or (byte)'{':
                    if (_depth == 0)
                    {
                        _array = b == '[';
                    }
                    else if (_depth == 1 && _array)
                    {
                        TopLevelItems++;
                    }
                    else if (_depth == 1 && b == '[')
                    {
                        // The features of a GeoJSON FeatureCollection are its entities.
                        _innerArray = _key.AsSpan(0, _keyLength).SequenceEqual("features"u8);
                    }
                    else if (_depth == 2 && _innerArray && b == '{')
                    {
                        TopLevelItems++;
                    }
                    _depth++;
                    break;
                case (byte)']' or (byte)'}':
                    _depth--;
                    if (_depth == 1)
                    {
                        _innerArray = false;
                    }
                    break;
            }
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
