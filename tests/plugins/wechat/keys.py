"""EncodingAESKeys shared by the WeChat tests (43 characters, as the consoles issue them)."""

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj"
