def test_import():
    import compgraph

    assert compgraph.__version__
