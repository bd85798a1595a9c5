# test-mongo runs the store contract suite against a real MongoDB (a replica
# set: transactions need one). Example:
#   XINLING_TEST_MONGO_URI=mongodb://localhost:27017/?replicaSet=rs0 make test-mongo
.PHONY: test-mongo
test-mongo:
	@test -n "$$XINLING_TEST_MONGO_URI" || { echo "set XINLING_TEST_MONGO_URI=mongodb://..."; exit 2; }
	go test -race -count=1 -run TestContract -v ./store/mongo/
